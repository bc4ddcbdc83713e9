import { t } from "elysia";
import { limits, Pagination, Profile, Text } from "../shared/model.ts";

export const CreateCommentBody = t.Object({
  comment: t.Object({ body: Text(limits.comment) }),
});

export const Comment = t.Object({
  id: t.Integer(),
  createdAt: t.String({ format: "date-time" }),
  updatedAt: t.String({ format: "date-time" }),
  body: t.String(),
  author: Profile,
});
export const CommentEnvelope = t.Object({ comment: Comment });
export const CommentList = t.Object({ comments: t.Array(Comment) });

export const CommentListQuery = t.Object(Pagination);
export const CommentParams = t.Object({
  slug: t.String({ maxLength: 512 }),
  id: t.String({ pattern: "^[1-9][0-9]{0,14}$", description: "Comment id" }),
});
