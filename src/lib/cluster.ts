/**
 * What the rest of Quire sees of the cluster a node belongs to (src/infra/redis/cluster.ts builds it when
 * REDIS_URL is set; a single node has none). The components it replaces (event replication, topic log,
 * rate limits, connection caps) are on the AppContext like any other; this is what is left: readiness,
 * metrics and leaving the cluster on shutdown.
 */
export interface ClusterStats {
  /** Member nodes, as of this node's last heartbeat. */
  members: number;
  /** Writes whose events reached the other nodes / could not be published. */
  replicated: number;
  undelivered: number;
  /** Members that did not acknowledge a write before their membership ran out. */
  ackTimeouts: number;
  /** Times this node lost its subscriber connection (and caught up after). */
  gaps: number;
}

export interface ClusterNode {
  readonly nodeId: string;
  /** "ok": Redis answers and this node hears the others; "degraded": it serves from the database alone. */
  state(): "ok" | "degraded";
  stats(): ClusterStats;
  /** This node hears every other right now, so its caches may answer (false: they are bypassed). */
  trusted(): boolean;
  /** Leave the cluster and close the connections (after the server and the workers stopped). */
  close(): Promise<void>;
}
