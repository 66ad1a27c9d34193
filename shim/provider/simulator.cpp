// The testing-mode provider: no network. Its inventory is the database's own
// simulator rows (a number is "owned" while a simulator row holds it), so a
// restart loses nothing, and it never touches a twilio row.
//
// Twilio's magic test numbers behave as with test credentials:
// +15005550000 is unavailable (21422), +15005550001 is invalid (21421).
#include <algorithm>
#include <cstdio>

#include "db/pool.hpp"
#include "provider/provider.hpp"

namespace nw::provider {
namespace {

const db::Statement kHeldByPhone = {"sim_held_by_phone",
                                    "SELECT id::text, phone_number, twilio_sid FROM number_wallet.api_numbers"
                                    " WHERE phone_number = $1 AND provider = 'simulator' AND held",
                                    db::Repeat::kSafe};
const db::Statement kHeldAll = {
    "sim_held_all",
    "SELECT id::text, phone_number FROM number_wallet.api_numbers WHERE provider = 'simulator' AND held",
    db::Repeat::kSafe};
const db::Statement kHeldAmong = {
    "sim_held_among",
    "SELECT phone_number FROM number_wallet.api_numbers WHERE phone_number = ANY($1::text[]) AND held",
    db::Repeat::kSafe};

twilio::Error DbError(const db::Result &r)
{
    return {twilio::ErrorKind::Transport, 0, 0, "simulator database error: " + r.error.message};
}

class Simulator final : public Provider {
public:
    explicit Simulator(db::Pool &pool) : pool_(pool) {}
    const char *Name() const override { return "simulator"; }

    twilio::Result<std::vector<twilio::AvailableNumber>> Search(const std::string &country,
                                                                const std::optional<std::string> &area_code,
                                                                const std::optional<std::string> &contains,
                                                                int limit) override
    {
        // 555-01xx numbers are reserved for fiction in North America.
        const std::string area = area_code.value_or(country == "CA" ? "604" : "415");
        std::vector<std::string> candidates;
        for (int line = 100; line < 200; ++line) {
            char phone[20];
            std::snprintf(phone, sizeof phone, "+1%s555%04d", area.c_str(), line);
            if (!contains || std::string(phone).find(*contains) != std::string::npos)
                candidates.push_back(phone);
        }
        std::string array = "{";
        for (std::size_t i = 0; i < candidates.size(); ++i)
            array += (i ? "," : "") + candidates[i];
        array += "}";
        const db::Result held = pool_.Exec(kHeldAmong, {array});
        if (!held.ok)
            return DbError(held);
        std::vector<twilio::AvailableNumber> out;
        for (const auto &phone : candidates) {
            const bool taken =
                std::any_of(held.rows.begin(), held.rows.end(), [&](const auto &row) { return row[0] == phone; });
            if (taken)
                continue;
            out.push_back({phone,
                           "(" + area + ") 555-" + phone.substr(phone.size() - 4),
                           country == "CA" ? "Vancouver" : "San Francisco",
                           country == "CA" ? "BC" : "CA",
                           country,
                           {true, true, true}});
            if (static_cast<int>(out.size()) >= limit)
                break;
        }
        return out;
    }

    twilio::BuyOutcome Buy(const std::string &phone_number, const std::string &number_id, Deadline) override
    {
        if (phone_number == "+15005550000")
            return twilio::Refused{400, 21422, "Phone number not available (simulator)"};
        if (phone_number == "+15005550001")
            return twilio::Refused{400, 21421, "Phone number is invalid (simulator)"};
        const db::Result held = pool_.Exec(kHeldByPhone, {phone_number});
        if (!held.ok)
            return twilio::Unknown{"simulator database error"};
        if (held.rows.empty() || held.Text(0, 0) != number_id)
            return twilio::Refused{400, 21422, "Phone number not available (simulator)"};
        return twilio::Bought{SimulatorSid(number_id), phone_number, number_id};
    }

    twilio::Result<std::optional<twilio::OwnedNumber>> FindOwned(const std::string &phone_number, Deadline) override
    {
        const db::Result held = pool_.Exec(kHeldByPhone, {phone_number});
        if (!held.ok)
            return DbError(held);
        if (held.rows.empty())
            return std::optional<twilio::OwnedNumber>();
        const std::string id = held.Text(0, 0);
        return std::optional<twilio::OwnedNumber>(twilio::OwnedNumber{SimulatorSid(id), phone_number, id});
    }

    twilio::Result<std::vector<twilio::OwnedNumber>> ListOwned(Deadline) override
    {
        const db::Result held = pool_.Exec(kHeldAll, {});
        if (!held.ok)
            return DbError(held);
        std::vector<twilio::OwnedNumber> out;
        for (const auto &row : held.rows)
            out.push_back({SimulatorSid(*row[0]), *row[1], *row[0]});
        return out;
    }

    twilio::Result<twilio::ReleaseOutcome> Release(const std::string &sid, Deadline) override
    {
        const auto owned = ListOwned(std::nullopt);
        if (!owned.IsOk())
            return owned.error();
        for (const auto &number : owned.value())
            if (number.sid == sid)
                return twilio::ReleaseOutcome::Released;
        return twilio::ReleaseOutcome::NotFound;
    }

private:
    db::Pool &pool_;
};

}  // namespace

std::string SimulatorSid(const std::string &number_id)
{
    std::string sid = "PN";
    for (char c : number_id)
        if (c != '-')
            sid += c;
    return sid;
}

std::unique_ptr<Provider> MakeSimulator(db::Pool &pool)
{
    return std::make_unique<Simulator>(pool);
}

}  // namespace nw::provider
