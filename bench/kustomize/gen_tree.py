#!/usr/bin/env python3
"""Writes a Kustomize overlay tree with about N resources.

Layout: one base (deployments, services, config maps, RBAC, an HPA, two
generators) reused by N/12 overlays, each with a name prefix, a namespace,
labels, annotations, images, replicas, a targeted strategic-merge patch, a
JSON 6902 patch, a patchesStrategicMerge file and a merging generator; a
top kustomization lists every overlay.
"""
import os
import sys

BASE_RESOURCES = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      serviceAccountName: runner
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
        envFrom:
        - configMapRef: {name: settings}
        env:
        - name: PASSWORD
          valueFrom:
            secretKeyRef: {name: credentials, key: password}
        volumeMounts:
        - {name: config, mountPath: /etc/web}
      volumes:
      - name: config
        configMap: {name: web-config}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  selector:
    matchLabels: {app: worker}
  template:
    metadata:
      labels: {app: worker}
    spec:
      containers:
      - name: worker
        image: busybox:1.36
        args: ["--queue", "jobs"]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - {port: 80, targetPort: 80}
---
apiVersion: v1
kind: Service
metadata:
  name: worker
spec:
  selector: {app: worker}
  ports:
  - {port: 9000}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  nginx.conf: |
    server { listen 80; }
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: feature-flags
data:
  beta: "false"
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: runner
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: reader
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: reader
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: reader
subjects:
- kind: ServiceAccount
  name: runner
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: 1
  maxReplicas: 5
"""

BASE_KUSTOMIZATION = """\
resources:
- resources.yaml
configMapGenerator:
- name: settings
  literals:
  - LOG_LEVEL=info
  - REGION=eu
secretGenerator:
- name: credentials
  literals:
  - password=s3cr3t
"""

OVERLAY = """\
resources:
- ../../base
namePrefix: o{i}-
namespace: team-{i}
commonLabels:
  overlay: o{i}
commonAnnotations:
  owner: team-{i}
images:
- name: nginx
  newTag: "1.25.{i}"
replicas:
- name: web
  count: {replicas}
configMapGenerator:
- name: settings
  behavior: merge
  literals:
  - OVERLAY=o{i}
patches:
- target:
    kind: Deployment
    name: worker
  patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: worker
    spec:
      template:
        spec:
          containers:
          - name: worker
            resources:
              limits: {{cpu: 500m}}
- target:
    version: v1
    kind: Service
    name: web
  patch: |-
    - op: add
      path: /metadata/annotations/overlay-index
      value: "{i}"
patchesStrategicMerge:
- flags.yaml
"""

FLAGS_PATCH = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: feature-flags
data:
  beta: "{beta}"
"""

ONE_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: one
spec:
  ports:
  - port: 80
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen_tree.py DIR RESOURCES (0 = a single Service)")
    root, count = sys.argv[1], int(sys.argv[2])
    if count == 0:
        write(os.path.join(root, "kustomization.yaml"), "resources:\n- service.yaml\n")
        write(os.path.join(root, "service.yaml"), ONE_SERVICE)
        return
    per_overlay = 12  # ten base resources and two generated ones
    overlays = max(1, count // per_overlay)
    write(os.path.join(root, "base", "resources.yaml"), BASE_RESOURCES)
    write(os.path.join(root, "base", "kustomization.yaml"), BASE_KUSTOMIZATION)
    top = ["resources:"]
    for i in range(overlays):
        d = os.path.join(root, "overlays", "o%d" % i)
        write(os.path.join(d, "kustomization.yaml"),
              OVERLAY.format(i=i, replicas=1 + i % 4))
        write(os.path.join(d, "flags.yaml"), FLAGS_PATCH.format(beta="true" if i % 2 else "false"))
        top.append("- overlays/o%d" % i)
    write(os.path.join(root, "kustomization.yaml"), "\n".join(top) + "\n")


if __name__ == "__main__":
    main()
