// Builds the run viewer when web/dist is missing or older than its sources, so that `npm start`
// on a fresh clone serves the viewer at / without a separate build step.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = dirname(dirname(fileURLToPath(import.meta.url)));
const built = join(web, 'dist', 'index.html');

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const sources = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json'].map((name) => join(web, name)).filter(existsSync);
if (!existsSync(built) || Math.max(...sources.map(newest)) > statSync(built).mtimeMs) {
  process.stdout.write('Building the run viewer (web/dist)…\n');
  const result = spawnSync('npm', ['run', 'build', '--workspace', 'web'], { stdio: 'inherit', cwd: dirname(web) });
  process.exit(result.status ?? 1);
}
