-- wrk script for benches/search.sh: every request a query string of its own
-- (the same filters and page, plus a price cap far above every lot), so no
-- two searches can share a run: the per-request cost of a search.
local base = wrk.path
function init(args)
    math.randomseed(os.time() * 1000 + tonumber(tostring({}):sub(8), 16) % 1000)
end
function request()
    return wrk.format("GET", base .. "&max_price_cents=" .. (1000000000000 + math.random(1, 1000000000)))
end
