import t from 'tap'
import { contract } from './contract.js'

contract(t, { kind: 'memory' })
