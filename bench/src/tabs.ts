// `pnpm --filter @tokenflight/bench bench:tabs`: case 6 alone (K tabs in Chromium), printed,
// RESULTS.md untouched. `pnpm bench` runs it with the other cases.
import { tabsCase, tabsHeaders, tabsTableRows } from './cases/tabs.ts'
import { table } from './table.ts'
import { progress } from './util.ts'

progress.log = (line) => console.log(line)
const runs = Number(process.env.BENCH_TABS_RUNS ?? 5)
const rows = await tabsCase([1, 3, 5], runs)
console.log(`\n${table(tabsHeaders, tabsTableRows(rows))}`)
