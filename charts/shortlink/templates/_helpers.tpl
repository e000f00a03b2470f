{{/*
The chart's name, for the app.kubernetes.io/name label.
*/}}
{{- define "shortlink.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object's name. It is cut to 35 characters so that the longest suffix
("-leader-election-rolebinding", 28) still leaves names under Kubernetes' 63.
A release named "shortlink" gives the names config/default gives.
*/}}
{{- define "shortlink.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 35 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 35 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 35 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
An object's name: (list $ "suffix").
*/}}
{{- define "shortlink.component" -}}
{{- printf "%s-%s" (include "shortlink.fullname" (index . 0)) (index . 1) }}
{{- end }}

{{/*
Labels of every object.
*/}}
{{- define "shortlink.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "shortlink.name" . }}
app.kubernetes.io/instance: {{ .Release.Name | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: shortlink
{{- end }}

{{/*
Selector labels of a component: (list $ "component").
*/}}
{{- define "shortlink.selectorLabels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ include "shortlink.name" $ }}
app.kubernetes.io/instance: {{ $.Release.Name | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/*
Labels of a component's objects: (list $ "component").
*/}}
{{- define "shortlink.componentLabels" -}}
{{ include "shortlink.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/*
An image reference from {repository, tag, digest}; the tag defaults to the appVersion.
*/}}
{{- define "shortlink.image" -}}
{{- $ := index . 0 }}{{ $img := index . 1 -}}
{{- if $img.digest }}
{{- printf "%s@%s" $img.repository $img.digest }}
{{- else }}
{{- printf "%s:%s" $img.repository (default $.Chart.AppVersion $img.tag) }}
{{- end }}
{{- end }}

{{/*
The Secret with the URLs of PostgreSQL, PgBouncer and Redis.
*/}}
{{- define "shortlink.backendsSecret" -}}
{{- default (include "shortlink.component" (list . "backends")) .Values.backends.secretName }}
{{- end }}

{{/*
Whether the chart writes the backends Secret itself: only for the bundled evaluation databases.
*/}}
{{- define "shortlink.bundled" -}}
{{- if and .Values.postgresql.enabled .Values.redis.enabled }}true
{{- else if or .Values.postgresql.enabled .Values.redis.enabled }}
{{- fail "postgresql.enabled and redis.enabled go together (they are the evaluation databases); for one of your own, turn both off and point backends.secretName at a Secret with all URLs" }}
{{- end }}
{{- end }}

{{/*
Redirector pods at most: the HPA's maximum (or the fixed replicas) plus the 25% rolling-update
surge, rounded up.
*/}}
{{- define "shortlink.redirector.maxPods" -}}
{{- $r := .Values.redirector.replicas | int }}
{{- if .Values.redirector.autoscaling.enabled }}{{ $r = .Values.redirector.autoscaling.maxReplicas | int }}{{ end }}
{{- add $r (div (add $r 3) 4) }}
{{- end }}

{{/*
PgBouncer's max_client_conn: every redirector pod's connections, so that one PgBouncer can carry
them all while another is down. See docs/operations.md for the arithmetic.
*/}}
{{- define "shortlink.pgbouncer.maxClientConn" -}}
{{- if .Values.pgbouncer.maxClientConn }}
{{- .Values.pgbouncer.maxClientConn }}
{{- else }}
{{- mul (include "shortlink.redirector.maxPods" . | int) (include "shortlink.redirector.connsPerPod" . | int) }}
{{- end }}
{{- end }}

{{/*
PgBouncer client connections one redirector pod opens at most: lookups, stats, and the create
API's pool when the API is on.
*/}}
{{- define "shortlink.redirector.connsPerPod" -}}
{{- $n := add .Values.redirector.database.maxConns .Values.redirector.database.statsMaxConns }}
{{- if .Values.api.enabled }}{{ $n = add $n .Values.api.maxConns }}{{ end }}
{{- $n }}
{{- end }}

{{/*
Redirector replicas at most, without the rollout surge: API_REPLICAS, the divisor of the rate
limits when Redis is down and each pod limits alone.
*/}}
{{- define "shortlink.redirector.maxReplicas" -}}
{{- if .Values.redirector.autoscaling.enabled }}{{ .Values.redirector.autoscaling.maxReplicas }}
{{- else }}{{ .Values.redirector.replicas }}{{ end }}
{{- end }}

{{/*
The Secrets of the create API: the keys file and the code key.
*/}}
{{- define "shortlink.api.keysSecret" -}}
{{- default (include "shortlink.component" (list . "api-keys")) .Values.api.keysSecretName }}
{{- end }}

{{- define "shortlink.api.codeKeySecret" -}}
{{- default (include "shortlink.component" (list . "api-code-key")) .Values.api.codeKeySecretName }}
{{- end }}
