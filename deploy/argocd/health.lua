-- Argo CD health check for VnfDevice, VnfFirewallRule and VnfNatRule (group vnf-operator.io).
-- Reads the kstatus conditions the operator writes: Ready (summary), Reconciling and Stalled
-- (abnormal-true). Plain Lua 5.1, as Argo CD embeds (gopher-lua); `obj` is the live object.
local hs = {}

-- Ready=False reasons that the operator retries on its own: show Progressing, not Degraded.
local transient = {
  Pending = true,
  Applying = true,
  Deleting = true,
  RetryingAfterError = true,
  DeviceNotReady = true,
  DeviceNotFound = true,
  VNF_TIMEOUT = true,
  VNF_UNREACHABLE = true,
  VNF_RATE_LIMIT = true,
  VNF_UPSTREAM = true,
}

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

local function describe(c)
  local reason = c.reason or c.type
  if c.message ~= nil and c.message ~= "" then
    return reason .. ": " .. c.message
  end
  return reason
end

local function isTrue(c)
  return c ~= nil and c.status == "True"
end

local metadata = obj.metadata or {}
local generation = metadata.generation or 0
local status = obj.status or {}
local ready = find(status.conditions, "Ready")
local stalled = find(status.conditions, "Stalled")
local reconciling = find(status.conditions, "Reconciling")

if metadata.deletionTimestamp ~= nil then
  if isTrue(stalled) then
    hs.status = "Degraded"
    hs.message = "Deletion blocked: " .. describe(stalled)
  else
    hs.status = "Progressing"
    hs.message = "Deleting: the operator removes it from the appliance"
  end
  return hs
end

if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end

-- A status computed from an older spec says nothing about the current one.
local observed = ready.observedGeneration or status.observedGeneration or 0
if status.observedGeneration ~= nil and status.observedGeneration < observed then
  observed = status.observedGeneration
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
if isTrue(reconciling) then
  hs.status = "Progressing"
  hs.message = describe(reconciling)
  return hs
end
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready)
  return hs
end
if ready.reason == "DeviceSuspended" then
  hs.status = "Suspended"
  hs.message = describe(ready)
  return hs
end
if ready.status == "Unknown" or transient[ready.reason] then
  hs.status = "Progressing"
  hs.message = describe(ready)
  return hs
end
hs.status = "Degraded"
hs.message = describe(ready)
return hs
