import { readFileSync } from 'node:fs';
import { readCsv } from './activities/csv';
const data = Buffer.from(JSON.parse(readFileSync('/tmp/case.json', 'utf8')), 'latin1');
async function run(size: number) {
  const out: string[] = [];
  await readCsv((async function* () { for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size); })(), {
    header: () => undefined, record: (r) => out.push(`${r.line} ok`), malformed: (l, k) => out.push(`${l} ${k}`) });
  return out;
}
(async () => { const a = await run(1 << 20); for (const s of [1,2,3,5]) { const b = await run(s); const d = a.map((x, i) => x === b[i] ? '' : `${x} vs ${b[i]}`).filter(Boolean); console.log(s, d.slice(0, 3)); } })();
