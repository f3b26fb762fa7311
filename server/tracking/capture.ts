/**
 * Bounded capture of a process's output: keeps the first and the last `limit / 2` bytes and
 * replaces the middle with one marker line, so 10 MB of progress bars cost at most `limit`.
 */
export class BoundedCapture {
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private dropped = 0;
  total = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    const half = Math.floor(this.limit / 2);
    if (this.headBytes < half) {
      const take = Math.min(half - this.headBytes, chunk.length);
      this.head.push(chunk.subarray(0, take));
      this.headBytes += take;
      chunk = chunk.subarray(take);
      if (chunk.length === 0) return;
    }
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    while (this.tailBytes > half && this.tail.length) {
      const excess = this.tailBytes - half;
      const first = this.tail[0];
      if (first.length <= excess) {
        this.tail.shift();
        this.tailBytes -= first.length;
        this.dropped += first.length;
      } else {
        this.tail[0] = first.subarray(excess);
        this.tailBytes -= excess;
        this.dropped += excess;
      }
    }
  }

  get truncated(): boolean {
    return this.dropped > 0;
  }

  text(): string {
    const marker = this.dropped ? Buffer.from(`\n[… labbook: ${this.dropped} bytes of output omitted …]\n`) : Buffer.alloc(0);
    return Buffer.concat([...this.head, marker, ...this.tail]).toString('utf8');
  }
}
