/** A Markdown table with padded columns, readable both in a terminal and rendered. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)),
  )
  const numeric = headers.map((_, i) =>
    rows.every((r) => /^[-–\d.,×% KBms/()≤≥]*$/.test(r[i] ?? '')),
  )
  const line = (cells: string[]) =>
    `| ${cells
      .map((c, i) =>
        numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!),
      )
      .join(' | ')} |`
  const rule = `| ${widths
    .map((w, i) => (numeric[i] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w)))
    .join(' | ')} |`
  return [line(headers), rule, ...rows.map(line)].join('\n')
}
