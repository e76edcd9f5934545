// A real server process, as operators run it: `node --import tsx server/src/main.ts serve` on a free port
// (PORT=0: the kernel picks one, the server prints it). One process, so kill -9 hits the server itself.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const SERVER_ENTRY = 'server/src/main.ts';

export interface ServerProcess {
  pid: number;
  /** resolves with the base URL once the server listens; rejects if it exits or times out first */
  ready: Promise<string>;
  /** resolves with the exit code or signal when the process ends */
  exited: Promise<string>;
  output(): string;
  kill9(): Promise<string>;
  /** SIGTERM (a clean shutdown), then SIGKILL after the grace time */
  stop(graceMs?: number): Promise<string>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export function spawnServer(options: { env: Record<string, string>; entry?: string; startTimeoutMs?: number }): ServerProcess {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // the caller chooses the database: never inherit one from the shell
  delete env.DATABASE_URL;
  delete env.TONGXIN_DATA_DIR;
  Object.assign(env, { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', TONGXIN_WEB_DIST: '/nonexistent', LOGIN_RATE_LIMIT_PER_MINUTE: '10000' }, options.env);
  const child = spawn(process.execPath, ['--import', 'tsx', options.entry ?? SERVER_ENTRY, 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(signal ?? String(code));
    }),
  );
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${options.startTimeoutMs ?? 120_000} ms:\n${out.slice(-2000)}`)), options.startTimeoutMs ?? 120_000);
    const look = () => {
      const m = /running: (http:\/\/[\d.]+:\d+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', look);
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${how}) before listening:\n${out.slice(-2000)}`));
    });
  });
  ready.catch(() => {});
  return {
    pid: child.pid!,
    ready,
    exited,
    output: () => out,
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const how = await exited;
      clearTimeout(timer);
      return how;
    },
  };
}
