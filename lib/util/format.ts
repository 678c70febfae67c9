/** `1.5 KB`-style sizes for people (binary units), shared by the CLI, messages and the console. */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** A duration for people, in its largest whole unit: `800 ms`, `12 s`, `5 min`, `3 h`, `2 d`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${Math.floor(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86_400)} d`;
}

/** A chart time in UTC: `HH:MM`, with the date (`MM-DD HH:MM`) when buckets are hours or longer. */
export function formatChartTime(t: number, periodSeconds: number): string {
  const iso = new Date(t).toISOString();
  return periodSeconds >= 3600 ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
}

/** A count in few characters for axes and tiles: `950`, `1.2k`, `34k`, `5.6M`. */
export function formatCount(n: number): string {
  const abs = Math.abs(n);
  const short = (v: number, unit: string) => `${v < 10 ? v.toFixed(1).replace(/\.0$/, '') : Math.round(v)}${unit}`;
  if (abs >= 1e9) return short(n / 1e9, 'G');
  if (abs >= 1e6) return short(n / 1e6, 'M');
  if (abs >= 1e3) return short(n / 1e3, 'k');
  return abs < 10 && !Number.isInteger(n) ? n.toFixed(1) : String(Math.round(n));
}
