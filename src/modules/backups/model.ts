/** Request and response schemas of the backups admin API. */
import { t } from "elysia";
import { component } from "../../http/docs.ts";

export const Backup = component(
  "Backup",
  t.Object({
    name: t.String({ description: "File name in `$DATA_DIR/backups`" }),
    size: t.Integer({ description: "Bytes" }),
    createdAt: t.String({ format: "date-time" }),
  }),
);

const manual = {
  name: "manual-2026-02-18T11-30-00-412Z.db",
  size: 5_242_880,
  createdAt: "2026-02-18T11:30:00.412Z",
};

export const BackupEnvelope = t.Object(
  { backup: Backup },
  { description: "The backup just written", examples: [{ backup: manual }] },
);
export const BackupList = t.Object(
  { backups: t.Array(Backup), backupsCount: t.Integer() },
  {
    description: "Every backup, newest first",
    examples: [
      {
        backups: [
          manual,
          {
            name: "scheduled-2026-02-18T03-00-00-087Z.db",
            size: 5_210_112,
            createdAt: "2026-02-18T03:00:00.087Z",
          },
        ],
        backupsCount: 2,
      },
    ],
  },
);
