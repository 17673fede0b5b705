import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface TlsFiles {
  caPath: string
  certPath: string
  keyPath: string
  ca: string
  /** A CA that did not sign the server certificate, to test refusal. */
  wrongCaPath: string
  wrongCa: string
}

function openssl (args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' })
}

function makeCa (dir: string, name: string): void {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=redkit ${name}`], dir)
}

/** Makes a throwaway CA and a server certificate for localhost and 127.0.0.1. */
export function makeTlsFiles (dir: string): TlsFiles {
  makeCa(dir, 'ca')
  makeCa(dir, 'wrong-ca')
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n')
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir)
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf'], dir)
  const caPath = join(dir, 'ca.crt')
  const wrongCaPath = join(dir, 'wrong-ca.crt')
  return {
    caPath,
    certPath: join(dir, 'server.crt'),
    keyPath: join(dir, 'server.key'),
    ca: readFileSync(caPath, 'utf8'),
    wrongCaPath,
    wrongCa: readFileSync(wrongCaPath, 'utf8')
  }
}
