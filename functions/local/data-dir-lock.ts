// One process per data directory: the embedded DynamoDB (LevelDB) under it can be open in one
// process only, and a second one would fail later and obscurely (dynalite's "Database is closed").
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class DataDirInUse extends Error {
  override readonly name = 'DataDirInUse';
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
};

/** Takes `dir` for this process (a lock file holding its pid), or throws naming the process that has it. Returns the release. */
export function lockDataDir(dir: string): () => void {
  const file = join(dir, 'gateway.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new DataDirInUse(`DATA_DIR ${dir} is in use by another gateway process (pid ${pid}); stop it, or give this one its own DATA_DIR.`);
      }
      rmSync(file, { force: true }); // left by a process that is gone
    }
  }
  throw new DataDirInUse(`DATA_DIR ${dir}: could not take its lock file ${file}`);
}
