import { runContract } from './contract.js'

runContract({ name: 'memory', core: () => ({ mode: 'memory', env: {} }) })
