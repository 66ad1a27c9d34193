#include "twilio/errors.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace nw::twilio {

const char *ToString(ErrorKind kind)
{
    switch (kind) {
    case ErrorKind::InvalidArgument:
        return "invalid_argument";
    case ErrorKind::Transport:
        return "transport";
    case ErrorKind::Timeout:
        return "timeout";
    case ErrorKind::HttpStatus:
        return "http_status";
    case ErrorKind::BadResponse:
        return "bad_response";
    case ErrorKind::DeadlineExceeded:
        return "deadline_exceeded";
    }
    return "unknown";
}

std::string SanitizeText(std::string_view text, std::size_t maxLen)
{
    std::string out;
    out.reserve(std::min(text.size(), maxLen));
    for (char c : text) {
        if (out.size() >= maxLen)
            break;
        unsigned char u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f) {
            out.push_back(c);
        } else if (c == '\n' || c == '\t' || c == '\r') {
            out.push_back(' ');
        }
    }
    return out;
}

TwilioError ParseTwilioError(int httpStatus, std::string_view body)
{
    TwilioError err;
    err.httpStatus = httpStatus;
    nlohmann::json j = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return err;
    auto c = j.find("code");
    if (c != j.end()) {
        if (c->is_number_integer()) {
            auto v = c->get<long long>();
            if (v > 0 && v < 1000000)
                err.twilioCode = static_cast<int>(v);
        } else if (c->is_string()) {
            // Defensive: some proxies re-serialise numbers as strings.
            const std::string &s = c->get_ref<const std::string &>();
            if (!s.empty() && s.size() <= 6 && s.find_first_not_of("0123456789") == std::string::npos) {
                err.twilioCode = std::stoi(s);
            }
        }
    }
    auto m = j.find("message");
    if (m != j.end() && m->is_string())
        err.message = SanitizeText(m->get_ref<const std::string &>());
    auto mi = j.find("more_info");
    if (mi != j.end() && mi->is_string())
        err.moreInfo = SanitizeText(mi->get_ref<const std::string &>(), 200);
    return err;
}

std::string_view MeaningOf(int twilioCode)
{
    switch (twilioCode) {
    case code::kAuthenticationFailed:
        return "authentication failed: check the account SID and auth token or API key";
    case code::kNotFound:
        return "resource not found";
    case code::kTooManyRequests:
        return "too many concurrent requests";
    case code::kInvalidPhoneNumber:
        return "invalid phone number";
    case code::kNumberNotAvailable:
        return "phone number not available";
    case 20403:
        return "account suspended or closed";
    case 21451:
        return "invalid area code";
    case 21452:
        return "no numbers available in that area code";
    default:
        return "";
    }
}

std::string FormatTwilioError(const TwilioError &error)
{
    std::string out = "HTTP " + std::to_string(error.httpStatus);
    if (error.twilioCode != 0) {
        out += ", Twilio error " + std::to_string(error.twilioCode);
        std::string_view meaning = MeaningOf(error.twilioCode);
        if (!meaning.empty()) {
            out += " (";
            out += meaning;
            out += ")";
        }
    }
    if (!error.message.empty())
        out += ": " + error.message;
    return out;
}

Error HttpError(std::string_view what, int httpStatus, std::string_view body)
{
    TwilioError te = ParseTwilioError(httpStatus, body);
    Error e;
    e.kind = ErrorKind::HttpStatus;
    e.httpStatus = httpStatus;
    e.twilioCode = te.twilioCode;
    e.message = std::string(what) + " failed: " + FormatTwilioError(te);
    return e;
}

bool DefinitelyNotBought(const BuyOutcome &outcome)
{
    return std::holds_alternative<Refused>(outcome) || std::holds_alternative<RateLimited>(outcome);
}

std::string describe(const BuyOutcome &outcome)
{
    if (auto b = std::get_if<Bought>(&outcome))
        return "bought " + b->phoneNumber + " as " + b->sid;
    if (auto r = std::get_if<Refused>(&outcome))
        return "refused: " + r->message;
    if (auto l = std::get_if<RateLimited>(&outcome))
        return "rate limited: " + l->message;
    return "unknown outcome: " + std::get<Unknown>(outcome).reason;
}

}  // namespace nw::twilio
