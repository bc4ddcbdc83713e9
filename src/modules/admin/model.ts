/** Schemas of the admin API (users and moderation); the audit log's live in src/modules/audit/model.ts. */
import { t } from "elysia";
import { limits, Pagination } from "../shared/model.ts";

const RoleSchema = t.Union([t.Literal("admin"), t.Literal("editor"), t.Literal("viewer")]);

export const AdminUser = t.Object({
  username: t.String(),
  email: t.String(),
  bio: t.Nullable(t.String()),
  image: t.Nullable(t.String()),
  role: RoleSchema,
  suspended: t.Boolean(),
  createdAt: t.String({ format: "date-time" }),
});
export const AdminUserEnvelope = t.Object({ user: AdminUser });
export const AdminUserList = t.Object({
  users: t.Array(AdminUser),
  usersCount: t.Integer({ description: "Total matching users, regardless of limit/offset" }),
});

export const UserListQuery = t.Object({
  q: t.Optional(
    t.String({ maxLength: limits.email, description: "Substring of the username or email (any case)" }),
  ),
  role: t.Optional(RoleSchema),
  suspended: t.Optional(t.Union([t.Literal("true"), t.Literal("false")])),
  ...Pagination,
});

/** Every other property (email, password, id, counts…) is stripped before the handler sees the body. */
export const ChangeUserBody = t.Object(
  {
    role: t.Optional(RoleSchema),
    suspended: t.Optional(
      t.Boolean({ description: "true ends every session of the account and refuses its logins" }),
    ),
  },
  { minProperties: 1, description: "`role` and/or `suspended`" },
);

export const UsernameParams = t.Object({ username: t.String({ maxLength: limits.username }) });
export const ArticleParams = t.Object({ slug: t.String({ maxLength: 512 }) });
export const CommentIdParams = t.Object({
  id: t.String({ pattern: "^[1-9][0-9]{0,14}$", description: "Comment id" }),
});

export type ChangeUserInput = typeof ChangeUserBody.static;
export type UserListFilters = typeof UserListQuery.static;
