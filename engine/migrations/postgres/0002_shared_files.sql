-- Droply's store on PostgreSQL, version 2: files every node serves.
--
-- Content files (what buyers download and the free previews) are kept in
-- the database beside the rows that point at them, so that any API node
-- serves a file another node received. Each file is named by the engine
-- (`content/<content id>/<role>-<hash>-<random>.<ext>`), never by a client,
-- and is stored in chunks of at most 1 MiB. A node keeps a local copy of
-- what it served, as a cache; the database is the file of record.

CREATE TABLE shared_file (
  path text PRIMARY KEY,
  size bigint NOT NULL CHECK (size >= 0),
  sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  stored_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE shared_file_chunk (
  path text NOT NULL REFERENCES shared_file (path) ON DELETE CASCADE,
  chunk integer NOT NULL CHECK (chunk >= 0),
  bytes bytea NOT NULL,
  PRIMARY KEY (path, chunk)
);
