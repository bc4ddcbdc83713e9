/** Shared by the jobs, webhooks and flags tests: an admin account and the job rows behind the API. */
import { registerUser, setRole, type TestApp, type TestUser } from "../helpers/app.ts";

/** Register a user and make it an admin (the token keeps working: the session cache is dropped). */
export async function createAdmin(t: TestApp): Promise<TestUser> {
  const user = await registerUser(t);
  await setRole(t, user.id, "admin");
  return user;
}

/** A row of the jobs table as t.db reads it (snake_case columns). */
export interface StoredJob {
  id: number;
  type: string;
  payload: string;
  state: "pending" | "running" | "done" | "dead";
  attempts: number;
  max_attempts: number;
  run_at: number;
  locked_until: number | null;
  locked_by: string | null;
  unique_key: string | null;
  last_error: string | null;
  finished_at: number | null;
}

export async function jobsOfType(t: TestApp, type: string): Promise<StoredJob[]> {
  return await t.db.all<StoredJob>("SELECT * FROM jobs WHERE type = ? ORDER BY id", type);
}

/** Parsed log lines (the test app must be created with LOG_LEVEL=info or lower). */
// biome-ignore lint/suspicious/noExplicitAny: log lines are inspected freely
export function logLines(t: TestApp): any[] {
  return t.logs.map((l) => JSON.parse(l));
}
