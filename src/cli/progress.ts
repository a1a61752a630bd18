/**
 * Progress lines for long commands: on a terminal, one line redrawn in place (bar, percent, ETA,
 * latest metrics); otherwise (CI logs, pipes) a plain line every 10% so logs stay short.
 * Written to stderr so --json output on stdout stays machine-readable.
 */
export class ProgressLine {
  private readonly tty = Boolean(process.stderr.isTTY);
  private readonly t0 = Date.now();
  private lastDecile = -1;
  private lastDraw = 0;

  constructor(private readonly label: string) {}

  update(done: number, total: number, note = ''): void {
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const elapsed = (Date.now() - this.t0) / 1000;
    const eta = frac > 0 ? (elapsed * (1 - frac)) / frac : NaN;
    const text =
      `${this.label} ${(100 * frac).toFixed(0).padStart(3)}%  ` +
      `${fmtTime(elapsed)} elapsed, ETA ${fmtTime(eta)}${note ? `  ${note}` : ''}`;
    if (this.tty) {
      const now = Date.now();
      if (now - this.lastDraw < 100 && frac < 1) return;
      this.lastDraw = now;
      const width = 24;
      const filled = Math.round(width * frac);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
    } else {
      const decile = Math.floor(frac * 10);
      if (decile === this.lastDecile) return;
      this.lastDecile = decile;
      process.stderr.write(`${text}\n`);
    }
  }

  done(): void {
    if (this.tty) process.stderr.write('\n');
  }
}

export function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  const sec = Math.floor(s % 60);
  return `${m}:${String(sec).padStart(2, '0')}`;
}
