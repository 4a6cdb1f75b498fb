/* SPDX-License-Identifier: MIT */
/*
 * vpio/vif_proto.h - the vif protocol vocabulary for C: xenbus states,
 * xenstore keys and path pieces, and the limits both ends check.
 *
 * GENERATED from packages/vif/src/protocol.ts by `npm run build`
 * (dist/gen-c-header.js). Do not edit: change protocol.ts. A test checks
 * that this file matches the generator and that C sees the same values.
 *
 * Paths: backend  VIF_PATH_LOCAL_DOMAIN "0" VIF_PATH_BACKEND_VIF "<domid>/<n>"
 *        frontend VIF_PATH_LOCAL_DOMAIN "<domid>" VIF_PATH_DEVICE_VIF "<n>"
 *                 (or VIF_PATH_DEVICE_VIF_RELATIVE "<n>" from the guest itself)
 * Keys ending in _PREFIX take a decimal index: "tx-ring-ref" "0".
 * Macros only: no functions, no data.
 */
#ifndef VPIO_VIF_PROTO_H
#define VPIO_VIF_PROTO_H

/* xenbus states (the decimal number is the `state` value) */
#define VIF_STATE_UNKNOWN 0u
#define VIF_STATE_INITIALISING 1u
#define VIF_STATE_INIT_WAIT 2u
#define VIF_STATE_INITIALISED 3u
#define VIF_STATE_CONNECTED 4u
#define VIF_STATE_CLOSING 5u
#define VIF_STATE_CLOSED 6u
#define VIF_STATE_RECONFIGURING 7u
#define VIF_STATE_RECONFIGURED 8u

/* keys */
#define VIF_KEY_STATE "state"
#define VIF_KEY_ERROR "error"
#define VIF_KEY_HANDLE "handle"
#define VIF_KEY_BACKEND "backend"
#define VIF_KEY_BACKEND_ID "backend-id"
#define VIF_KEY_FRONTEND "frontend"
#define VIF_KEY_FRONTEND_ID "frontend-id"
#define VIF_KEY_MAC "mac"
#define VIF_KEY_MTU "mtu"
#define VIF_KEY_FEATURE_NETMAP "feature-netmap"
#define VIF_KEY_FEATURE_NETMAP_OFFLOAD "feature-netmap-offload"
#define VIF_KEY_REQUEST_NETMAP_OFFLOAD "request-netmap-offload"
#define VIF_KEY_TX_DESC "feature-netmap-tx-desc"
#define VIF_KEY_RX_DESC "feature-netmap-rx-desc"
#define VIF_KEY_TX_RING_REFS "tx-ring-refs"
#define VIF_KEY_TX_RING_REF_PREFIX "tx-ring-ref"
#define VIF_KEY_RX_RING_REFS "rx-ring-refs"
#define VIF_KEY_RX_RING_REF_PREFIX "rx-ring-ref"
#define VIF_KEY_EVENT_CHANNEL_TX "event-channel-tx"
#define VIF_KEY_EVENT_CHANNEL_RX "event-channel-rx"
#define VIF_KEY_MULTI_QUEUE_MAX_QUEUES "multi-queue-max-queues"
#define VIF_KEY_MULTI_QUEUE_NUM_QUEUES "multi-queue-num-queues"
#define VIF_KEY_QUEUE_PREFIX "queue-"

/* path pieces */
#define VIF_PATH_LOCAL_DOMAIN "/local/domain/"
#define VIF_PATH_BACKEND_VIF "/backend/vpio-vif/"
#define VIF_PATH_DEVICE_VIF "/device/vpio-vif/"
#define VIF_PATH_DEVICE_VIF_RELATIVE "device/vpio-vif/"

/* limits */
#define VIF_LIMIT_MIN_SLOTS 64u
#define VIF_LIMIT_MAX_SLOTS 4096u
#define VIF_LIMIT_MAX_RING_REFS 17u
#define VIF_LIMIT_MAX_PORT 131071u
#define VIF_LIMIT_MIN_MTU 68u
#define VIF_LIMIT_MAX_MTU 65535u
#define VIF_LIMIT_MAX_ERROR_BYTES 256u
#define VIF_LIMIT_BACKEND_DOMID 0u
#define VIF_LIMIT_MAX_DOMID 32751u
#define VIF_LIMIT_MAX_QUEUES 8u

/* X-macro lists of every definition above, for tables and tests */
#define VIF_PROTO_STRINGS(X) X(VIF_KEY_STATE) X(VIF_KEY_ERROR) X(VIF_KEY_HANDLE) X(VIF_KEY_BACKEND) X(VIF_KEY_BACKEND_ID) X(VIF_KEY_FRONTEND) X(VIF_KEY_FRONTEND_ID) X(VIF_KEY_MAC) X(VIF_KEY_MTU) X(VIF_KEY_FEATURE_NETMAP) X(VIF_KEY_FEATURE_NETMAP_OFFLOAD) X(VIF_KEY_REQUEST_NETMAP_OFFLOAD) X(VIF_KEY_TX_DESC) X(VIF_KEY_RX_DESC) X(VIF_KEY_TX_RING_REFS) X(VIF_KEY_TX_RING_REF_PREFIX) X(VIF_KEY_RX_RING_REFS) X(VIF_KEY_RX_RING_REF_PREFIX) X(VIF_KEY_EVENT_CHANNEL_TX) X(VIF_KEY_EVENT_CHANNEL_RX) X(VIF_KEY_MULTI_QUEUE_MAX_QUEUES) X(VIF_KEY_MULTI_QUEUE_NUM_QUEUES) X(VIF_KEY_QUEUE_PREFIX) X(VIF_PATH_LOCAL_DOMAIN) X(VIF_PATH_BACKEND_VIF) X(VIF_PATH_DEVICE_VIF) X(VIF_PATH_DEVICE_VIF_RELATIVE)
#define VIF_PROTO_NUMBERS(X) X(VIF_STATE_UNKNOWN) X(VIF_STATE_INITIALISING) X(VIF_STATE_INIT_WAIT) X(VIF_STATE_INITIALISED) X(VIF_STATE_CONNECTED) X(VIF_STATE_CLOSING) X(VIF_STATE_CLOSED) X(VIF_STATE_RECONFIGURING) X(VIF_STATE_RECONFIGURED) X(VIF_LIMIT_MIN_SLOTS) X(VIF_LIMIT_MAX_SLOTS) X(VIF_LIMIT_MAX_RING_REFS) X(VIF_LIMIT_MAX_PORT) X(VIF_LIMIT_MIN_MTU) X(VIF_LIMIT_MAX_MTU) X(VIF_LIMIT_MAX_ERROR_BYTES) X(VIF_LIMIT_BACKEND_DOMID) X(VIF_LIMIT_MAX_DOMID) X(VIF_LIMIT_MAX_QUEUES)

#endif /* VPIO_VIF_PROTO_H */
