/**
 * oslo.log's `use_syslog`: each record to the local syslog socket (/dev/log), tagged with the
 * program name and with the facility of `syslog_log_facility`, as Python's syslog.syslog() does
 * (`<PRI>Dec  7 20:15:01 heat-manage: <the oslo line>`).
 *
 * Why a helper process: /dev/log is a Unix *datagram* socket and Node has no AF_UNIX datagram
 * sockets (dgram is UDP only). util-linux's `logger` (Debian's bsdutils, essential, so in every
 * Debian-based image) sends datagrams to it; one `logger --prio-prefix` is started when the first
 * record is sent and reads `<PRI>line` records from a pipe, so each record keeps its own severity.
 * No socket at that path: one warning, and lines go only to stderr or the log file (Python's
 * syslog drops them silently).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { syslogPriority, type LevelName } from './format.js';

export interface SyslogSink {
  send(level: LevelName, line: string): void;
  close(): Promise<void>;
}

export interface SyslogOptions {
  readonly socket: string;
  readonly facility: number;
  readonly ident: string;
  /** Says (once) why syslog gets nothing. */
  readonly warn: (message: string) => void;
  /** The `logger` program (default: from PATH). */
  readonly program?: string;
}

/** How long close() waits for `logger` to drain the pipe and exit. */
const CLOSE_TIMEOUT_MS = 3000;

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

export function openSyslog(o: SyslogOptions): SyslogSink {
  let child: ChildProcess | undefined;
  let broken = !isSocket(o.socket);
  if (broken) o.warn(`use_syslog: no syslog socket at ${o.socket}; log lines go only to stderr or the log file`);
  const fail = (why: string) => {
    if (broken) return;
    broken = true;
    o.warn(`use_syslog: cannot send to ${o.socket} (${why}); log lines go only to stderr or the log file`);
  };
  const start = (): ChildProcess => {
    const c = spawn(o.program ?? 'logger', ['--socket', o.socket, '--socket-errors=off', '--prio-prefix', '--tag', o.ident], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    c.on('error', (e) => fail(`${o.program ?? 'logger'}: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    c.stdin!.on('error', () => fail('the logger process ended'));
    return c;
  };
  return {
    send(level, line) {
      if (broken) return;
      child ??= start();
      const pri = `<${syslogPriority(o.facility, level)}>`;
      child.stdin!.write(line.split('\n').map((l) => `${pri}${l}\n`).join(''));
    },
    close() {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          c.kill('SIGKILL');
          resolve();
        }, CLOSE_TIMEOUT_MS);
        c.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        c.stdin!.end();
      });
    },
  };
}
