/**
 * What stageCsv makes of the records of one part of its input: the good rows and the rejects as
 * COPY text, their counts, and the keys that may repeat. The whole input is one part; a file read
 * on two threads (src/data/csv-split.ts) is two, one in each thread, added up at the end.
 */
import { writeReject, type CompiledContract } from './contract';
import { CopyWriter } from './copy-writer';
import type { CsvRecord, MalformedKind } from './csv-record';
import type { RepeatedKeys } from './repeated-keys';

/** The counts of a part: records loaded and rejected, and the lines they span. */
export interface PartCounts {
  loaded: number;
  rejected: number;
  loadedLines: number;
  rejectedLines: number;
}

export class StagingPart implements PartCounts {
  readonly good = new CopyWriter();
  readonly bad = new CopyWriter();
  loaded = 0;
  rejected = 0;
  loadedLines = 0;
  rejectedLines = 0;

  constructor(
    private readonly compiled: CompiledContract,
    readonly keys?: RepeatedKeys,
  ) {}

  record(record: CsvRecord): void {
    const reject = this.compiled.write(record, this.good);
    if (reject === undefined) {
      this.keys?.add(this.good.bytes, this.compiled.keyText!);
      this.loaded++;
      this.loadedLines += record.lines;
    } else {
      this.rejected++;
      this.rejectedLines += record.lines;
      writeReject(this.bad, record.line, record.lines, reject.rule, reject.reason, record.raw());
    }
  }

  malformed(line: number, kind: MalformedKind, reason: string, raw: string): void {
    this.rejected++;
    this.rejectedLines++;
    writeReject(this.bad, line, 1, `malformed: ${kind}`, reason, raw);
  }

  counts(): PartCounts {
    return { loaded: this.loaded, rejected: this.rejected, loadedLines: this.loadedLines, rejectedLines: this.rejectedLines };
  }
}
