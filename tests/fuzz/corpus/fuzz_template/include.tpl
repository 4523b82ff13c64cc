{{- define "n" }}{{ .Values.name | trunc 63 | trimSuffix "-" }}{{ end -}}
name: {{ include "n" . }}
{{- with .Values.map }}
labels: {{- toYaml . | nindent 2 }}
{{- end }}
{{ range $i, $v := .Values.list }}{{ $i }}={{ $v | quote }}{{ end }}