// velocityjs (the Node VTL engine other emulators use) rendering benches/data/template.vtl with
// small stand-ins for $input, $util and $context; the body is parsed once, outside the loop.
// Usage: node velocityjs.js DATA_DIR (run by benches/compare.sh).
const { Compile, parse } = require('velocityjs');
const fs = require('fs');
const dir = process.argv[2];
const body = JSON.parse(fs.readFileSync(`${dir}/body.json`, 'utf8'));
const compiled = new Compile(parse(fs.readFileSync(`${dir}/template.vtl`, 'utf8')));
const escapeJs = (s) => String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/'/g, "\\'").replace(/\//g, '\\/');
const ctx = {
  input: { path: () => body, params: (n) => (n === 'region' ? 'eu-west-1' : '') },
  util: { escapeJavaScript: escapeJs },
  context: { requestId: 'c0ffee00-0000-4000-8000-000000000000' },
};
for (let i = 0; i < 2000; i++) compiled.render(ctx);
const n = 20000;
const start = process.hrtime.bigint();
for (let i = 0; i < n; i++) compiled.render(ctx);
const secs = Number(process.hrtime.bigint() - start) / 1e9;
console.log((n / secs).toFixed(0));
