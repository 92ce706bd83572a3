/** CPU time of processes from /proc (Linux), for the benches' cost per request or per application. */
import { readdirSync, readFileSync } from "node:fs";

/** /proc/<pid>/stat counts CPU time in clock ticks of USER_HZ, which Linux fixes at 100. */
const USER_HZ = 100;

/** The fields after the command's closing parenthesis (state is [0]; utime, stime, cutime, cstime are [11] to [14]), or null. */
function statFields(pid: number | string | undefined): { command: string; fields: string[] } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    return { command: stat.slice(stat.indexOf("(") + 1, close), fields: stat.slice(close + 2).split(" ") };
  } catch {
    return null; // no /proc (not Linux), or the process ended
  }
}

/**
 * CPU seconds (user + system) process `pid` has used so far, or null when it cannot be read. With
 * `children`, also the time of its children that ended (a server's finished backends).
 */
export function cpuSeconds(pid: number | string | undefined, { children = false } = {}): number | null {
  const stat = statFields(pid);
  if (!stat) return null;
  const [utime, stime, cutime, cstime] = stat.fields.slice(11, 15).map(Number);
  return (utime + stime + (children ? cutime + cstime : 0)) / USER_HZ;
}

/** CPU seconds of every process running `command` (e.g. "postgres"), their ended children included; null without /proc. */
export function cpuSecondsOfCommand(command: string): number | null {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  let total = 0;
  for (const pid of pids) if (statFields(pid)?.command === command) total += cpuSeconds(pid, { children: true }) ?? 0;
  return total;
}
