// A node:test reporter that writes one JSON line per skipped test or suite,
// for build/run-tests.mjs to count and print at the end of the run.
export default async function* skipReporter(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (event.data.skip === undefined || event.data.skip === false) continue;
    yield `${JSON.stringify({
      name: event.data.name,
      file: event.data.file,
      kind: event.data.details?.type === 'suite' ? 'suite' : 'test',
      reason: typeof event.data.skip === 'string' ? event.data.skip : '(no reason given)',
    })}\n`;
  }
}
