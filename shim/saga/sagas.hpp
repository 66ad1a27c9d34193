// The purchase and release sagas (docs/http-api.md) and the reconciler. The database
// decides every money and ownership question; these functions only order the
// calls: reserve, then buy (no lock or connection held), then settle.
#pragma once

#include <optional>
#include <string>

#include "http/reply.hpp"
#include "app/app.hpp"

namespace nw::saga {

struct PurchaseRequest {
    std::string user_id;
    std::string phone_number;
    std::optional<std::string> display_name;
    std::string idempotency_key;  // the client's, or one the shim generated
};

http::Reply Purchase(App &app, const PurchaseRequest &request);

http::Reply Release(App &app, const std::string &user_id, const std::string &number_id);

// Deletes a released number at the provider and records it. A 404 counts only
// once a look-up confirms the number is not ours. True when recorded.
bool FinishProviderDeletion(App &app, const std::string &number_id, const std::string &sid,
                            const std::string &phone_number);

struct ReconcileReport {
    int confirmed = 0, failed = 0, still_pending = 0;
    int deleted = 0, deletions_left = 0;
    int renewed = 0, unpaid = 0, released_unpaid = 0;
    int swept_deleted = 0, discrepancies = 0;
    bool swept = false;
    bool ran = false;  // false when another pass held the lock
    bool Clean() const { return ran && still_pending == 0 && deletions_left == 0; }
};

// One full pass. wait_for_lock: the `reconcile` command waits for a pass that
// is running; `serve` skips. sweep: include the inventory sweep.
ReconcileReport Reconcile(App &app, bool wait_for_lock, bool sweep);

}  // namespace nw::saga
