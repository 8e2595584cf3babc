// Durations as an operator reads them: `2d 3h 10m`, `45m`, `30s`.

export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  if (s < 60) return `${s}s`;
  const minutes = Math.round(s / 60);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m`;
  return `${m}m`;
}

/** Time offsets from the campaign start, aligned in tables: `+0m`, `+1h 05m`, `+2d 03h 10m`. */
export function formatOffset(totalSeconds: number): string {
  const minutes = Math.round(Math.max(0, totalSeconds) / 60);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const mm = String(m).padStart(2, '0');
  if (d > 0) return `+${d}d ${String(h).padStart(2, '0')}h ${mm}m`;
  if (h > 0) return `+${h}h ${mm}m`;
  return `+${m}m`;
}
