{{/* The release's full name, at most 63 characters (a DNS label). */}}
{{- define "vnf-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "vnf-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "vnf-operator.labels" -}}
{{ include "vnf-operator.selectorLabels" . }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "vnf-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "vnf-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* "true" when the replicas elect a leader: never with sharding (all replicas work); forced by
leaderElection.enabled, else when replicaCount > 1. */}}
{{- define "vnf-operator.leaderElect" -}}
{{- if .Values.sharding.enabled -}}
false
{{- else if kindIs "bool" .Values.leaderElection.enabled -}}
{{- .Values.leaderElection.enabled -}}
{{- else -}}
{{- gt (int .Values.replicaCount) 1 -}}
{{- end -}}
{{- end -}}

{{- define "vnf-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/*
The operator's permissions on what it reconciles, the same rules whether granted by one ClusterRole or
by a Role per watched namespace. Least privilege: read the three kinds, patch the rules (finalizers,
as a JSON patch) and all three status subresources, read Secrets (credentials and CAs, through an
informer: list/watch), write Events. No create/delete/update anywhere: the operator never creates or
deletes these objects.
*/}}
{{/* Reading credential Secrets (the operator asks only for those labelled vnf-operator.io/credentials=true). */}}
{{- define "vnf-operator.secretRules" -}}
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch]
{{- end -}}

{{- define "vnf-operator.rules" -}}
- apiGroups: [vnf-operator.io]
  resources: [vnfdevices, vnffirewallrules, vnfnatrules]
  verbs: [get, list, watch]
- apiGroups: [vnf-operator.io]
  resources: [vnfdevices, vnffirewallrules, vnfnatrules]
  verbs: [patch]
- apiGroups: [vnf-operator.io]
  resources: [vnfdevices/status, vnffirewallrules/status, vnfnatrules/status]
  verbs: [patch]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end -}}
