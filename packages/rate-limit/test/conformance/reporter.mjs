/** A node:test reporter that writes one JSON line per finished test (suites left out). */
export default async function * reporter (source) {
  const names = []
  for await (const event of source) {
    const data = event.data ?? {}
    if (event.type === 'test:start') names[data.nesting] = data.name
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue
    if (data.details?.type === 'suite') continue
    const path = [...names.slice(0, data.nesting), data.name].join(' > ')
    const error = data.details?.error
    yield JSON.stringify({
      name: data.name,
      path,
      ok: event.type === 'test:pass',
      skip: data.skip === undefined ? undefined : String(data.skip),
      error: error === undefined ? undefined : String(error.cause?.message ?? error.message).slice(0, 300)
    }) + '\n'
  }
}
