/** Schemas of the admin API (users and moderation); the audit log's live in src/modules/audit/model.ts. */
import { t } from "elysia";
import { component } from "../../http/docs.ts";
import { limits, Pagination, profileExample } from "../../http/model.ts";

const RoleSchema = t.Union([t.Literal("admin"), t.Literal("editor"), t.Literal("viewer")]);

export const AdminUser = component(
  "AdminUser",
  t.Object(
    {
      username: t.String(),
      email: t.String(),
      bio: t.Nullable(t.String()),
      image: t.Nullable(t.String()),
      role: RoleSchema,
      suspended: t.Boolean(),
      emailVerified: t.Boolean({ description: "Whether the current address was verified" }),
      createdAt: t.String({ format: "date-time" }),
    },
    { description: "An account as admins see it: with its email, role, suspension and verification" },
  ),
);

export const adminUserExample = {
  username: profileExample.username,
  email: "jake@example.com",
  bio: profileExample.bio,
  image: profileExample.image,
  role: "editor" as const,
  suspended: false,
  emailVerified: true,
  createdAt: "2026-01-05T14:03:11.000Z",
};

export const AdminUserEnvelope = t.Object(
  { user: AdminUser },
  {
    description: "The account after the change",
    examples: [{ user: { ...adminUserExample, suspended: true } }],
  },
);
export const AdminUserList = t.Object(
  {
    users: t.Array(AdminUser),
    usersCount: t.Integer({ description: "Total matching users, regardless of limit/offset" }),
  },
  {
    description: "A page of accounts and the total that match",
    examples: [
      {
        users: [
          {
            ...adminUserExample,
            username: "root",
            email: "root@example.com",
            bio: null,
            image: null,
            role: "admin",
            createdAt: "2026-01-02T09:00:00.000Z",
          },
          adminUserExample,
        ],
        usersCount: 2,
      },
    ],
  },
);

export const UserListQuery = t.Object({
  q: t.Optional(
    t.String({ maxLength: limits.email, description: "Substring of the username or email (any case)" }),
  ),
  role: t.Optional(RoleSchema),
  suspended: t.Optional(
    t.Union([t.Literal("true"), t.Literal("false")], {
      description: "Only suspended (or only active) accounts",
    }),
  ),
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
  {
    minProperties: 1,
    description: "`role` and/or `suspended`",
    examples: [{ suspended: true }, { role: "admin" }],
  },
);

export const UsernameParams = t.Object({
  username: t.String({ maxLength: limits.username, description: "Username, matched regardless of case" }),
});
export const ArticleParams = t.Object({
  slug: t.String({ maxLength: 512, description: "The article's slug" }),
});
export const CommentIdParams = t.Object({
  id: t.String({ pattern: "^[1-9][0-9]{0,14}$", description: "Comment id" }),
});

export type ChangeUserInput = typeof ChangeUserBody.static;
export type UserListFilters = typeof UserListQuery.static;
