#!/usr/bin/env node
// The build step after tsc: copies every src/**/*.lua next to the compiled JavaScript in dist/,
// where the script loader (src/store/lua-script.ts) reads them.
const { copyFileSync, mkdirSync, readdirSync } = require('node:fs');
const { join, relative } = require('node:path');

const root = join(__dirname, '..');
function copy(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const from = join(dir, entry.name);
    if (entry.isDirectory()) copy(from);
    else if (entry.name.endsWith('.lua')) {
      const to = join(root, 'dist', relative(join(root, 'src'), from));
      mkdirSync(join(to, '..'), { recursive: true });
      copyFileSync(from, to);
    }
  }
}
copy(join(root, 'src'));
