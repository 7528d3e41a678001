-- wrk script for benches/scripts/search_load.sh: POST /v1/search, each request
-- with the next of the demo's evaluation queries (QUERIES: one JSON-escaped
-- query per line). MODE=cached sends them as they are, so after a first pass
-- their embeddings come from the query cache; MODE=fresh makes every request's
-- words new (the query plus a number no other request uses), so each one is
-- embedded; SALT (a small number) keeps one wrk run's words apart from another's.
-- FACETS=1 asks for every facet's counts.
local queries = {}
for line in io.lines(os.getenv("QUERIES")) do
    queries[#queries + 1] = line
end
local fresh = os.getenv("MODE") == "fresh"
local facets = os.getenv("FACETS") == "1" and ', "facets": ["*"]' or ""
local salt = tonumber(os.getenv("SALT") or "0") * 1e12
local threads = 0

function setup(thread)
    thread:set("tid", threads)
    threads = threads + 1
end

local n = 0

function init(args)
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    n = (tid or 0) * 7919
end

function request()
    n = n + 1
    local q = queries[(n % #queries) + 1]
    if fresh then
        q = q .. " " .. string.format("%d", salt + (tid or 0) * 1e8 + n)
    end
    return wrk.format(nil, "/v1/search", nil, '{"q": "' .. q .. '", "limit": 10' .. facets .. '}')
end
