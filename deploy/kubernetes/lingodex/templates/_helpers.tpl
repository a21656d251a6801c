{{/* Names and labels. */}}
{{- define "lingodex.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}{{ .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" }}{{ end }}
{{- end }}

{{- define "lingodex.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "lingodex.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
lingodex settings as the environment variables the worker reads: section.key
becomes LINGODEX_SECTION__KEY (section.key.sub: LINGODEX_SECTION__KEY__SUB);
lists travel as JSON, as pydantic-settings parses them.
*/}}
{{- define "lingodex.settingsEnv" -}}
{{- range $section, $keys := . }}
{{- range $key, $value := $keys }}
{{- if kindIs "map" $value }}
{{- range $sub, $leaf := $value }}
- name: {{ printf "LINGODEX_%s__%s__%s" $section $key $sub | upper }}
  value: {{ include "lingodex.envValue" $leaf }}
{{- end }}
{{- else }}
- name: {{ printf "LINGODEX_%s__%s" $section $key | upper }}
  value: {{ include "lingodex.envValue" $value }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{- define "lingodex.envValue" -}}
{{- if kindIs "slice" . }}{{ toJson . | quote }}{{ else }}{{ toString . | quote }}{{ end }}
{{- end }}

{{/* Secrets and TLS: credentials only ever come from Secrets, never from values. */}}
{{- define "lingodex.secretEnv" -}}
- name: LINGODEX_BROKER__URL
  valueFrom: {secretKeyRef: {name: {{ .Values.broker.existingSecret }}, key: url}}
{{- range $key := list "username" "password" "aws_region" }}
- name: {{ printf "LINGODEX_OPENSEARCH__%s" $key | upper }}
  valueFrom: {secretKeyRef: {name: {{ $.Values.opensearch.existingSecret }}, key: {{ $key }}, optional: true}}
{{- end }}
{{- if .Values.tls.caSecret }}
- name: LINGODEX_OPENSEARCH__CA_CERTS
  value: /etc/lingodex/ca/ca.crt
{{- end }}
{{- end }}

{{- define "lingodex.volumeMounts" -}}
{{- if eq .Values.modelCache.mode "pvc" }}
- {name: models, mountPath: /var/lib/lingodex/models}
{{- end }}
{{- if .Values.tls.caSecret }}
- {name: opensearch-ca, mountPath: /etc/lingodex/ca, readOnly: true}
{{- end }}
{{- end }}

{{- define "lingodex.volumes" -}}
{{- if eq .Values.modelCache.mode "pvc" }}
- name: models
  persistentVolumeClaim: {claimName: {{ .Values.modelCache.existingClaim | default (printf "%s-models" (include "lingodex.fullname" .)) }}}
{{- end }}
{{- if .Values.tls.caSecret }}
- name: opensearch-ca
  secret: {secretName: {{ .Values.tls.caSecret }}}
{{- end }}
{{- end }}
