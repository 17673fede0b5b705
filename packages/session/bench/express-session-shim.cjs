'use strict'
// connect-redis 7 extends express-session's Store, which is an EventEmitter
// plus helpers @fastify/session never calls. express-session itself is not
// installed in this workspace, so the benchmark resolves it to this.
const { EventEmitter } = require('node:events')
class Store extends EventEmitter {}
module.exports = { Store }
