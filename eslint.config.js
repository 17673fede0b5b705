import neostandard from 'neostandard'

export default neostandard({
  ts: true,
  filesTs: ['**/*.mts', '**/*.cts'],
  ignores: [
    '**/dist/**',
    '**/node_modules/**',
    '**/.tap/**',
    '**/coverage/**',
    '**/artifacts/**',
    '**/.turbo/**',
  ],
})
