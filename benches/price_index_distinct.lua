-- wrk script for benches/price_index.sh: every request a range of its own (the
-- same buckets, ending at a random second of the last day), so no kept answer
-- can serve it: the cost of rendering a series from the buckets.
local base = wrk.path
function init(args)
    math.randomseed(os.time() * 1000 + tonumber(tostring({}):sub(8), 16) % 1000)
end
function request()
    local second = math.random(0, 86399)
    local to = string.format("2023-12-31T%02d:%02d:%02dZ", math.floor(second / 3600), math.floor(second % 3600 / 60), second % 60)
    return wrk.format("GET", base .. "&to=" .. to)
end
