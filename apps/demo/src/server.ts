import { buildApp } from './app.js'
import { loadConfig } from './config.js'

const config = loadConfig()
const app = await buildApp(config)

for (const name of config.generated) {
  app.log.warn(`${name} is not set; using a random value, so sessions and admin logins do not survive a restart`)
}

let closing = false
async function shutdown (signal: string): Promise<void> {
  if (closing) return
  closing = true
  app.log.info({ signal }, 'demo: shutting down; finishing requests in flight')
  // A second signal, or a close that hangs, must still end the process.
  const force = setTimeout(() => {
    app.log.error('demo: shutdown took too long; exiting')
    process.exit(1)
  }, 10_000)
  force.unref()
  try {
    await app.close()
    process.exitCode = 0
  } catch (err) {
    app.log.error({ err }, 'demo: error while closing')
    process.exitCode = 1
  }
}
process.once('SIGTERM', () => { shutdown('SIGTERM').catch(() => {}) })
process.once('SIGINT', () => { shutdown('SIGINT').catch(() => {}) })

try {
  await app.listen({ port: config.port, host: config.host })
} catch (err) {
  app.log.error({ err }, 'demo: could not start')
  process.exit(1)
}
