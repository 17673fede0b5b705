import { contract } from './contract.js'

contract({
  name: 'memory',
  core: () => ({ mode: 'memory', env: {} }),
  admin: () => null
})
