/** Request and response schemas of the backups admin API. */
import { t } from "elysia";

export const Backup = t.Object({
  name: t.String({ description: "File name in `$DATA_DIR/backups`" }),
  size: t.Integer({ description: "Bytes" }),
  createdAt: t.String({ format: "date-time" }),
});

export const BackupEnvelope = t.Object({ backup: Backup });
export const BackupList = t.Object({ backups: t.Array(Backup), backupsCount: t.Integer() });
