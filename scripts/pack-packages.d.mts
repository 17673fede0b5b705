export const ROOT: string
export function publicPackages (root?: string): Array<{ name: string, dir: string }>
export function pnpmCommand (): { file: string, prefix: string[] }
export function packAll (dest: string, root?: string): Promise<Array<{ name: string, dir: string, tarball: string, files: string[] }>>
