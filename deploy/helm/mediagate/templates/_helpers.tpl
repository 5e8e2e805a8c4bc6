{{- define "mediagate.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "mediagate.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one role: (dict "root" $ "role" "api") */}}
{{- define "mediagate.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "mediagate.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "mediagate.fullname" .)) -}}
{{- end -}}

{{- define "mediagate.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "mediagate.edgePublicUrl" -}}
{{- .Values.edgePublicUrl | default (printf "https://%s" .Values.ingress.edge.host) -}}
{{- end -}}

{{/*
The settings every role shares, then the role's own. Secrets come from the Secret by key, each role taking
only the keys it uses (the worker never gets the database); only the roles on the bus get Kafka's.
(dict "root" $ "kafka" true "roleEnv" (dict …) "secretKeys" (list …))
*/}}
{{- define "mediagate.env" -}}
{{- $v := .root.Values -}}
- { name: HOST, value: {{ $v.listenHost | quote }} }
- { name: DATA_DIR, value: {{ $v.dataDir | quote }} }
- { name: LOG_LEVEL, value: {{ $v.logLevel | quote }} }
{{- if .kafka }}
{{- with $v.kafka.brokers }}
- { name: KAFKA_BROKERS, value: {{ join "," . | quote }} }
{{- end }}
- { name: KAFKA_TOPIC_PREFIX, value: {{ $v.kafka.topicPrefix | quote }} }
- { name: KAFKA_PARTITIONS, value: {{ $v.kafka.partitions | quote }} }
- { name: KAFKA_REPLICATION_FACTOR, value: {{ $v.kafka.replicationFactor | quote }} }
{{- if $v.kafka.sasl.mechanism }}
- { name: KAFKA_SASL_MECHANISM, value: {{ $v.kafka.sasl.mechanism | quote }} }
- { name: KAFKA_SASL_USERNAME, value: {{ required "kafka.sasl.username is required with kafka.sasl.mechanism" $v.kafka.sasl.username | quote }} }
{{- end }}
{{- if $v.kafka.tls.enabled }}
- { name: KAFKA_SSL, value: "true" }
{{- with $v.kafka.tls.caSecret }}
- { name: KAFKA_SSL_CA_FILE, value: /etc/mediagate/kafka-ca/ca.crt }
{{- end }}
{{- end }}
{{- end }}
{{- with $v.s3.endpoint }}
- { name: S3_ENDPOINT, value: {{ . | quote }} }
{{- end }}
{{- with $v.s3.publicEndpoint }}
- { name: S3_PUBLIC_ENDPOINT, value: {{ . | quote }} }
{{- end }}
- { name: S3_REGION, value: {{ $v.s3.region | quote }} }
- { name: S3_BUCKET, value: {{ $v.s3.bucket | quote }} }
{{- if ne (toString $v.s3.forcePathStyle) "" }}
- { name: S3_FORCE_PATH_STYLE, value: {{ $v.s3.forcePathStyle | quote }} }
{{- end }}
{{- with $v.cdn.baseUrl }}
- { name: CDN_BASE_URL, value: {{ . | quote }} }
{{- end }}
- { name: EDGE_PUBLIC_URL, value: {{ include "mediagate.edgePublicUrl" .root | quote }} }
{{- with $v.clamav.host }}
- { name: CLAMAV_HOST, value: {{ . | quote }} }
- { name: CLAMAV_PORT, value: {{ $v.clamav.port | quote }} }
{{- end }}
{{- range $name, $value := $v.config }}
- { name: {{ $name }}, value: {{ $value | toString | quote }} }
{{- end }}
{{- range $name, $value := .roleEnv }}
- { name: {{ $name }}, value: {{ $value | toString | quote }} }
{{- end }}
{{- $secret := include "mediagate.secretName" .root }}
{{- range .secretKeys }}
- name: {{ . }}
  valueFrom:
    secretKeyRef: { name: {{ $secret }}, key: {{ . }}, optional: {{ ne . "DATABASE_URL" }} }
{{- end }}
{{- end -}}

{{/* The /tmp emptyDir (the root filesystem is read-only) and, with a private Kafka CA, its Secret. */}}
{{- define "mediagate.volumeMounts" -}}
- { name: tmp, mountPath: /tmp }
{{- if and .kafka .root.Values.kafka.tls.enabled .root.Values.kafka.tls.caSecret }}
- { name: kafka-ca, mountPath: /etc/mediagate/kafka-ca, readOnly: true }
{{- end }}
{{- end -}}

{{- define "mediagate.volumes" -}}
- name: tmp
  emptyDir:
    {{- with .sizeLimit }}
    sizeLimit: {{ . }}
    {{- end }}
{{- if and .kafka .root.Values.kafka.tls.enabled .root.Values.kafka.tls.caSecret }}
- name: kafka-ca
  secret: { secretName: {{ .root.Values.kafka.tls.caSecret }} }
{{- end }}
{{- end -}}

{{- define "mediagate.podSpecCommon" -}}
automountServiceAccountToken: false
securityContext: {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "mediagate.metricsAnnotations" -}}
{{- if .root.Values.metrics.annotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end -}}
