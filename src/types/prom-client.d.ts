// prom-client 15's own files (CommonJS, `module.exports = Class`), imported one by one by src/lib/metrics.ts:
// the package's index would also evaluate its Pushgateway (node:http, node:https, node:zlib) at start-up.
declare module "prom-client/lib/registry" {
  import { Registry } from "prom-client";
  export default Registry;
}
declare module "prom-client/lib/counter" {
  import { Counter } from "prom-client";
  export default Counter;
}
declare module "prom-client/lib/gauge" {
  import { Gauge } from "prom-client";
  export default Gauge;
}
declare module "prom-client/lib/histogram" {
  import { Histogram } from "prom-client";
  export default Histogram;
}
declare module "prom-client/lib/defaultMetrics" {
  import { collectDefaultMetrics } from "prom-client";
  export default collectDefaultMetrics;
}
