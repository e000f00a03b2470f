-- Argo CD health of a links.shortlink.dev ShortLink or ShortLinkDomain, read from the conditions
-- the operator writes (docs/gitops.md); both kinds write Ready, Reconciling and Stalled alike.
-- Argo CD opens only the package, base, table and a safe os library: no string library, so this
-- script compares strings with == and never calls their methods. NotAllowed is a
-- ShortLinkDomain's refusal of a ShortLink; a domain's HostConflict is Degraded through Stalled.
local degradedReasons = { CodeConflict = true, InvalidTarget = true, Blocked = true, NotAllowed = true }

local function condition(conditions, type)
  for _, c in ipairs(conditions or {}) do
    if c.type == type then
      return c
    end
  end
  return nil
end

local function health(status, message)
  return { status = status, message = message }
end

local function assess(obj)
  local generation = obj.metadata.generation
  local ready = nil
  if obj.status ~= nil then
    ready = condition(obj.status.conditions, "Ready")
  end
  if ready == nil then
    return health("Progressing", "Waiting for the operator to report Ready")
  end
  if ready.observedGeneration ~= generation then
    return health("Progressing", "Waiting for the operator to sync generation " .. tostring(generation))
  end
  if ready.status == "True" and obj.status.observedGeneration == generation then
    return health("Healthy", ready.message)
  end
  if ready.status == "False" and ready.reason == "DatabaseUnavailable" then
    return health("Progressing", ready.message)
  end
  if ready.status == "False" and degradedReasons[ready.reason] then
    return health("Degraded", ready.reason .. ": " .. ready.message)
  end
  if obj.status.observedGeneration ~= generation then
    return health("Progressing", "Waiting for the operator to sync generation " .. tostring(generation))
  end
  if ready.status == "False" then
    -- A reason newer than this script: the operator marks it Stalled unless it will retry.
    local stalled = condition(obj.status.conditions, "Stalled")
    if stalled ~= nil and stalled.status == "True" then
      return health("Degraded", ready.reason .. ": " .. ready.message)
    end
  end
  return health("Progressing", ready.message)
end

return assess(obj)
