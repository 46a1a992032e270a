-- Argo CD health check for VnfDevice, VnfFirewallRule and VnfNatRule (group vnf-operator.io).
-- It reads the conditions the operator writes and says what kstatus (Flux, kpt) says, plus Suspended:
--   Stalled=True (a person must act)                 -> Degraded
--   Suspended=True (spec.suspend, or its device's)   -> Suspended
--   Reconciling=True, Ready False/Unknown, no status, a status older than the spec -> Progressing
--   Ready=True for the current generation            -> Healthy
-- Written for Argo CD's runtime: Lua 5.1 (gopher-lua) with only base, table, package and os.time/date
-- (argocd-cm scripts get no string or math library); `obj` is the live object.
--
-- Deletion: Argo CD up to 3.5 shows "Progressing / Pending deletion" for an object being deleted and
-- never runs this script for it; from 3.6 it shows this script's answer when it sets deletionMessage.
-- So a blocked deletion (Stalled while deleting) is Degraded there, with what to do.
local hs = {}

local function find(conditions, kind)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

local function isTrue(c)
  return c ~= nil and c.status == "True"
end

local function describe(c)
  local reason = c.reason or c.type
  if c.message ~= nil and c.message ~= "" then
    return reason .. ": " .. c.message
  end
  return reason
end

local metadata = obj.metadata or {}
local status = obj.status or {}
local conditions = status.conditions
local ready = find(conditions, "Ready")
local stalled = find(conditions, "Stalled")
local reconciling = find(conditions, "Reconciling")
local suspended = find(conditions, "Suspended")

if metadata.deletionTimestamp ~= nil then
  if isTrue(stalled) then
    hs.status = "Degraded"
    hs.message = "Deletion blocked: " .. describe(stalled)
  elseif isTrue(reconciling) and reconciling.message ~= nil and reconciling.message ~= "" then
    hs.status = "Progressing"
    hs.message = "Deleting: " .. reconciling.message
  elseif isTrue(suspended) then
    hs.status = "Progressing"
    hs.message = "Deleting: " .. describe(suspended)
  elseif ready ~= nil and ready.status ~= "True" then
    hs.status = "Progressing"
    hs.message = "Deleting: " .. describe(ready)
  else
    hs.status = "Progressing"
    hs.message = "Deleting: the operator removes it from the appliance"
  end
  hs.deletionMessage = hs.message
  return hs
end

-- A status computed from an older spec says nothing about the current one. observedGeneration is -1
-- (the CRDs' default) until the operator first writes status.
local generation = metadata.generation or 0
local observed = status.observedGeneration
if observed == nil or observed < 0 then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end
local summary = ready or suspended
if summary ~= nil and summary.observedGeneration ~= nil and summary.observedGeneration < observed then
  observed = summary.observedGeneration
end
if observed < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

if isTrue(stalled) then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  return hs
end
if isTrue(suspended) then
  hs.status = "Suspended"
  hs.message = describe(suspended)
  return hs
end
if isTrue(reconciling) then
  hs.status = "Progressing"
  hs.message = describe(reconciling)
  return hs
end
if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready)
  return hs
end
hs.status = "Progressing"
hs.message = describe(ready)
return hs
