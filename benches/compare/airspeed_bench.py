# airspeed (the Python VTL engine other emulators use) rendering benches/data/template.vtl
# with small stand-ins for $input, $util and $context; the body is parsed once, outside the loop.
# Usage: python3 airspeed_bench.py DATA_DIR (run by benches/compare.sh).
import json, sys, time
import airspeed

data = sys.argv[1]
body = json.load(open(f"{data}/body.json"))


class Input:
    def path(self, p):
        return body

    def params(self, n):
        return "eu-west-1" if n == "region" else ""


class Util:
    def escapeJavaScript(self, s):
        return str(s).replace("\\", "\\\\").replace('"', '\\"').replace("'", "\\'").replace("/", "\\/")


template = airspeed.Template(open(f"{data}/template.vtl").read())
ctx = {"input": Input(), "util": Util(), "context": {"requestId": "c0ffee00-0000-4000-8000-000000000000"}}
for _ in range(200):
    template.merge(ctx)
n = 3000
start = time.perf_counter()
for _ in range(n):
    template.merge(ctx)
print(f"{n / (time.perf_counter() - start):.0f}")
