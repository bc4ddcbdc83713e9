import { t } from "elysia";
import { component } from "../../http/docs.ts";
import { limits, Profile, pagination, profileExample, Text } from "../../http/model.ts";
import { MAX_COMMENTS_PAGE } from "./service.ts";

export const CreateCommentBody = t.Object(
  { comment: component("NewComment", t.Object({ body: Text(limits.comment) })) },
  { examples: [{ comment: { body: "Thank you so much!" } }] },
);

export const Comment = component(
  "Comment",
  t.Object({
    id: t.Integer(),
    createdAt: t.String({ format: "date-time" }),
    updatedAt: t.String({ format: "date-time" }),
    body: t.String(),
    author: Profile,
  }),
);

const commentExample = {
  id: 1,
  createdAt: "2026-02-18T09:45:00.000Z",
  updatedAt: "2026-02-18T09:45:00.000Z",
  body: "Thank you so much!",
  author: { ...profileExample, username: "ada", bio: null, image: null },
};

export const CommentEnvelope = t.Object(
  { comment: Comment },
  { description: "The new comment", examples: [{ comment: commentExample }] },
);
export const CommentList = t.Object(
  { comments: t.Array(Comment) },
  {
    description: "A page of the article's comments, oldest first",
    examples: [
      {
        comments: [
          commentExample,
          {
            ...commentExample,
            id: 2,
            createdAt: "2026-02-18T10:02:13.512Z",
            updatedAt: "2026-02-18T10:02:13.512Z",
            body: "Glad it helped.",
            author: profileExample,
          },
        ],
      },
    ],
  },
);

export const CommentListQuery = t.Object(pagination(MAX_COMMENTS_PAGE, MAX_COMMENTS_PAGE));
export const CommentParams = t.Object({
  slug: t.String({ maxLength: 512, description: "The article's slug" }),
  id: t.String({ pattern: "^[1-9][0-9]{0,14}$", description: "Comment id" }),
});
