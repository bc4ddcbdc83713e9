/**
 * One cluster node for the cluster benchmarks, from source, on whatever DATABASE_URL and REDIS_URL the
 * environment gives: the same context (as a member) and app as `quire serve`, without its one-server-per-
 * SQLite-file lock, so several processes can share one SQLite file when no Postgres is at hand. Prints
 * `listening <port>` once ready; SIGTERM closes sockets, leaves the cluster and exits.
 */
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { closeContext, createContext } from "../../src/context.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { startJobs, stopJobs } from "../../src/modules/jobs/setup.ts";
import { closeAllSockets } from "../../src/modules/realtime/hub.ts";

const config = loadConfig(process.env);
const log = createLogger(config.LOG_LEVEL);
const ctx = await createContext(config, log, { member: true });
const app = createApp(ctx);
app.listen({ port: config.PORT, hostname: config.HOST });
await startJobs(ctx);
process.stdout.write(`listening ${app.server!.port}\n`);
process.on("SIGTERM", async () => {
  closeAllSockets(ctx);
  await app.stop(true);
  await stopJobs(ctx, 1_000);
  await closeContext(ctx);
  process.exit(0);
});
