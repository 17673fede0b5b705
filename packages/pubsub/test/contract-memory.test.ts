import t from 'tap'
import { contract } from './contract.js'
import { makeApp } from './helpers.js'

contract(t, { shared: false, patterns: true, make: async (prefix, opts) => await makeApp({ mode: 'memory' }, prefix, opts) })
