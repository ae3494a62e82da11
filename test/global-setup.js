// Tests that start the CLI as a child process (worker crash, `start`) run dist/. `npm test`
// builds first; this makes a plain `npx jest` safe too by rebuilding when a source file is newer.
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync, utimesSync } = require('node:fs');
const { join } = require('node:path');

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

module.exports = async () => {
  const root = join(__dirname, '..');
  const built = join(root, 'dist', 'cli.js');
  if (!existsSync(built) || statSync(built).mtimeMs < newest(join(root, 'src'))) {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
    execFileSync(process.execPath, [join(root, 'scripts', 'copy-lua.js')], { stdio: 'inherit' });
    // An incremental build leaves unchanged outputs untouched; mark the build as current.
    const now = new Date();
    utimesSync(built, now, now);
  }
};
