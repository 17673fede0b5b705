'use strict'
// Changelog lines for changesets: the default (@changesets/changelog-git), minus
// "Updated dependencies" entries for @redkit/* packages. The packages are one
// fixed group, so each release lists the same version of all of them anyway, and
// the first release would otherwise open with "Patch Changes" of unpublished code.
const base = require('@changesets/cli/changelog').default

module.exports = {
  getReleaseLine: base.getReleaseLine,
  async getDependencyReleaseLine (changesets, dependenciesUpdated, options) {
    const external = dependenciesUpdated.filter((dep) => !dep.name.startsWith('@redkit/'))
    return await base.getDependencyReleaseLine(changesets, external, options)
  }
}
